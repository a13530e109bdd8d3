Feature: grouping by fields and by time periods

  Scenario: #18 group by a key
    Given "licensing.json" is in data set "foo"
    When I GET "/foo?group_by=authority"
    Then the status is 200
    And the data is:
      """
      [{"authority": "Camden", "_count": 2}, {"authority": "Westminster", "_count": 4}]
      """

  Scenario: #19 group by two keys
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?group_by=authority&group_by=licence_name"
    Then the status is 200
    And the data is:
      """
      [{"authority": "Camden", "licence_name": "Temporary events notice", "_count": 1},
       {"authority": "Westminster", "licence_name": "Cat herding licence", "_count": 1},
       {"authority": "Westminster", "licence_name": "Temporary events notice", "_count": 3}]
      """

  Scenario: #20 group and filter on different keys
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?group_by=authority&filter_by=licence_name:Temporary%20events%20notice"
    Then the status is 200
    And the response has 2 results
    And result 1 is:
      """
      {"authority": "Camden", "_count": 1}
      """
    And result 2 is:
      """
      {"authority": "Westminster", "_count": 3}
      """
    When I GET "/foo?group_by=licence_name&filter_by=authority:Westminster"
    Then the status is 200
    And the data is:
      """
      [{"licence_name": "Cat herding licence", "_count": 1},
       {"licence_name": "Temporary events notice", "_count": 3}]
      """

  Scenario: #21 weekly buckets
    Given "stored_timestamps.json" is in data set "weekly"
    When I GET "/weekly?period=week&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the data is:
      """
      [{"_count": 3, "_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00"},
       {"_count": 2, "_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00"}]
      """

  Scenario: #22 weekly buckets of filtered records
    Given "stored_timestamps_for_filtering.json" is in data set "weekly"
    When I GET "/weekly?period=week&filter_by=name:alpha&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the data is:
      """
      [{"_count": 2, "_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00"},
       {"_count": 1, "_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00"}]
      """

  Scenario: #23 grouped by week and name
    Given "stored_timestamps_for_filtering.json" is in data set "weekly"
    When I GET "/weekly?period=week&group_by=name&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the response has 2 results
    And the values of result 1 include:
      """
      {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 2}
      """
    And the data is:
      """
      [{"name": "alpha", "_count": 3, "_group_count": 2, "values": [
          {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 2},
          {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 1}]},
       {"name": "beta", "_count": 2, "_group_count": 2, "values": [
          {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 1},
          {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 1}]}]
      """

  Scenario: #24 grouped by week and name, filtered by name
    Given "stored_timestamps_for_filtering.json" is in data set "weekly"
    When I GET "/weekly?period=week&group_by=name&filter_by=name:alpha&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the response has 1 result
    And the values of result 1 include:
      """
      {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 2}
      """
    And the values of result 1 include:
      """
      {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 1}
      """

  Scenario: #25 grouped by week and name, filtered by a name prefix
    Given "stored_timestamps_for_filtering.json" is in data set "weekly"
    When I GET "/weekly?period=week&group_by=name&filter_by_prefix=name:alph&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the response has 1 result
    And the values of result 1 include:
      """
      {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 2}
      """
    And the values of result 1 include:
      """
      {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 1}
      """

  Scenario: #26 grouping by a field no record has
    Given "stored_timestamps_for_filtering.json" is in data set "weekly"
    When I GET "/weekly?period=week&group_by=wibble&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z"
    Then the status is 200
    And the response has 0 results

  # #27 (subgroups contain _count) was @wip in the original and is left out: its relative
  # range (duration=13 months back from now) holds none of subgroup.json's 2014 records, so
  # nothing shifts and the period it expects (March 2013) is never in the answer.

  Scenario: #28 grouping by the period key needs a time range first
    Given "licensing.json" is in data set "weekly"
    When I GET "/weekly?period=week&group_by=_week_start_at"
    Then the status is 400
    And the message is "Either 'duration' or both 'start_at' and 'end_at' are required for a period query"

  Scenario: #29 internal fields cannot be grouped by
    Given "licensing.json" is in data set "weekly"
    When I GET "/weekly?group_by=_anything"
    Then the status is 400
    And the message is "Cannot group by internal fields, internal fields start with an underscore"

Feature: relative date ranges (duration) and their automatic shifting

  Background:
    Given "licensing_2.json" is in data set "foo"

  Scenario: #50 counting forward from start_at
    When I GET "/foo?start_at=2012-12-12T00:00:00%2B00:00&duration=2&period=day"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 2},
       {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 1}]
      """

  Scenario: #51 counting back from end_at
    When I GET "/foo?end_at=2012-12-14T00:00:00%2B00:00&duration=2&period=day"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 2},
       {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 1}]
      """

  Scenario: #52 from start_at, empty first periods shift the window forward
    When I GET "/foo?start_at=2012-11-05T00:00:00%2B00:00&duration=10&period=week"
    Then the status is 200
    And the response has 10 results
    And result 1 is:
      """
      {"_start_at": "2012-12-03T00:00:00+00:00", "_end_at": "2012-12-10T00:00:00+00:00", "_count": 1}
      """
    And result 2 is:
      """
      {"_start_at": "2012-12-10T00:00:00+00:00", "_end_at": "2012-12-17T00:00:00+00:00", "_count": 4}
      """
    And result 3 is:
      """
      {"_start_at": "2012-12-17T00:00:00+00:00", "_end_at": "2012-12-24T00:00:00+00:00", "_count": 0}
      """

  Scenario: #53 from end_at, empty last periods shift the window back
    When I GET "/foo?end_at=2013-02-04T00:00:00%2B00:00&duration=10&period=week"
    Then the status is 200
    And the response has 10 results
    And result 10 is:
      """
      {"_start_at": "2012-12-10T00:00:00+00:00", "_end_at": "2012-12-17T00:00:00+00:00", "_count": 4}
      """
    And result 9 is:
      """
      {"_start_at": "2012-12-03T00:00:00+00:00", "_end_at": "2012-12-10T00:00:00+00:00", "_count": 1}
      """
    And result 8 is:
      """
      {"_start_at": "2012-11-26T00:00:00+00:00", "_end_at": "2012-12-03T00:00:00+00:00", "_count": 0}
      """
    And result 1 is:
      """
      {"_start_at": "2012-10-08T00:00:00+00:00", "_end_at": "2012-10-15T00:00:00+00:00", "_count": 0}
      """

  Scenario: #54 grouped, counting forward from start_at
    When I GET "/foo?start_at=2012-12-12T00:00:00%2B00:00&duration=2&period=day&group_by=authority"
    Then the status is 200
    And the response has 2 results
    And the data is:
      """
      [{"authority": "Camden", "_count": 1, "_group_count": 1, "values": [
          {"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 1},
          {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 0}]},
       {"authority": "Westminster", "_count": 2, "_group_count": 2, "values": [
          {"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 1},
          {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 1}]}]
      """

  Scenario: #55 grouped, counting back from end_at
    When I GET "/foo?end_at=2012-12-14T00:00:00%2B00:00&duration=2&period=day&group_by=authority"
    Then the status is 200
    And the response has 2 results
    And the data is:
      """
      [{"authority": "Camden", "_count": 1, "_group_count": 1, "values": [
          {"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 1},
          {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 0}]},
       {"authority": "Westminster", "_count": 2, "_group_count": 2, "values": [
          {"_start_at": "2012-12-12T00:00:00+00:00", "_end_at": "2012-12-13T00:00:00+00:00", "_count": 1},
          {"_start_at": "2012-12-13T00:00:00+00:00", "_end_at": "2012-12-14T00:00:00+00:00", "_count": 1}]}]
      """

  Scenario: #56 grouped, from start_at, empty first periods shift the window forward
    When I GET "/foo?start_at=2012-12-10T00:00:00%2B00:00&duration=4&period=day&group_by=authority"
    Then the status is 200
    And the response has 2 results
    And the results' "authority" values are ["Camden", "Westminster"]
    And the results' "_count" values are [1, 3]
    And the values of result 2 include:
      """
      {"_start_at": "2012-12-15T00:00:00+00:00", "_end_at": "2012-12-16T00:00:00+00:00", "_count": 0}
      """
    And the value counts of result 2 are [1, 1, 1, 0]

  Scenario: #57 grouped, from end_at, empty last periods shift the window back
    When I GET "/foo?end_at=2012-12-16T00:00:00%2B00:00&duration=2&period=day&group_by=authority"
    Then the status is 200
    And the response has 1 result
    And the "authority" of result 1 is "Westminster"
    And the "_count" of result 1 is 2
    And the value counts of result 1 are [1, 1]

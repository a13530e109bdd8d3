Feature: filtering by time and by field values

  Scenario: #5 start_at alone is refused
    Given "licensing.json" is in data set "foo"
    When I GET "/foo?start_at=2012-12-13T01:01:01%2B00:00"
    Then the status is 400
    And the message is "Use of 'start_at' requires 'end_at' or 'duration'"

  Scenario: #6 end_at alone is refused
    Given "licensing.json" is in data set "foo"
    When I GET "/foo?end_at=2012-12-12T01:01:02%2B00:00"
    Then the status is 400
    And the message is "Use of 'end_at' requires 'start_at' or 'duration'"

  Scenario: #7 records between two points in time
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?start_at=2012-12-12T01:01:02%2B00:00&end_at=2012-12-14T00:00:00%2B00:00"
    Then the status is 200
    And the response has 1 result
    And result 1 without "_updated_at" is:
      """
      {"_id": "1236", "_timestamp": "2012-12-13T01:01:01+00:00",
       "licence_name": "Temporary events notice", "interaction": "success",
       "authority": "Westminster", "type": "success",
       "_hour_start_at": "2012-12-13T01:00:00+00:00", "_day_start_at": "2012-12-13T00:00:00+00:00",
       "_week_start_at": "2012-12-10T00:00:00+00:00", "_month_start_at": "2012-12-01T00:00:00+00:00",
       "_quarter_start_at": "2012-10-01T00:00:00+00:00", "_year_start_at": "2012-01-01T00:00:00+00:00"}
      """

  Scenario: #8 filter by a key and value
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?filter_by=authority:Camden"
    Then the status is 200
    And the response has 2 results
    And the results' "authority" values are ["Camden", "Camden"]

  Scenario: #9 an invalid start_at
    Given a data set "foo" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    When I GET "/data/group/type?start_at=not+a+date"
    Then the status is 400
    And the message is "start_at is not a valid datetime"

  Scenario: #10 a field name starting with $ cannot be filtered on
    Given "licensing.json" is in data set "weekly"
    When I GET "/weekly?filter_by=$where:function(){}"
    Then the status is 400
    And the message is "Cannot filter by an invalid field name"

  Scenario: #11 dates and a filter combined
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?start_at=2012-12-13T00:00:02%2B00:00&end_at=2012-12-19T00:00:00%2B00:00&filter_by=type:success"
    Then the status is 200
    And the response has 1 result
    And result 1 contains:
      """
      {"_id": "1236", "_timestamp": "2012-12-13T01:01:01+00:00",
       "licence_name": "Temporary events notice", "interaction": "success",
       "authority": "Westminster", "type": "success"}
      """

  Scenario: #12 a boolean filter
    Given "dinosaurs.json" is in data set "lizards" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/lizards?filter_by=eats_people:true"
    Then the status is 200
    And the response has 3 results
    And the results' "eats_people" values are [true, true, true]

  Scenario: #13 a prefix filter
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?filter_by_prefix=authority:Camd"
    Then the status is 200
    And the response has 2 results
    And the results' "authority" values are ["Camden", "Camden"]

  Scenario: #14 a prefix filter on a field name starting with $
    Given "licensing.json" is in data set "weekly"
    When I GET "/weekly?filter_by_prefix=$prefix:function(){}"
    Then the status is 400
    And the message is "Cannot filter by an invalid field name"

  Scenario: #15 a prefix is literal text, not a pattern
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?filter_by_prefix=authority:.*"
    Then the status is 200
    And the response has 0 results

  Scenario: #16 dates and a prefix filter combined
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?start_at=2012-12-13T00:00:02%2B00:00&end_at=2012-12-19T00:00:00%2B00:00&filter_by_prefix=type:succ"
    Then the status is 200
    And the response has 1 result
    And result 1 contains:
      """
      {"_id": "1236", "_timestamp": "2012-12-13T01:01:01+00:00",
       "licence_name": "Temporary events notice", "interaction": "success",
       "authority": "Westminster", "type": "success"}
      """

  Scenario: #17 grouping by a boolean
    Given "dinosaurs.json" is in data set "lizards"
    When I GET "/lizards?group_by=eats_people"
    Then the status is 200
    And the response has 2 results
    And the data is:
      """
      [{"eats_people": false, "_count": 1}, {"eats_people": true, "_count": 3}]
      """

Feature: daily buckets of records written through the write API

  Scenario: #71 group by day
    Given a data set "day" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the bearer token for the data set
    When I POST "daily_timestamps.json" to "/data/group/type"
    Then the status is 200
    When I GET "/data/group/type?period=day&start_at=2013-04-04T00:00:00Z&end_at=2013-04-11T00:00:00Z"
    Then the status is 200
    And the response has 7 results
    And the results' "_count" values are [1, 1, 3, 1, 1, 1, 1]
    And result 3 is:
      """
      {"_start_at": "2013-04-06T00:00:00+00:00", "_end_at": "2013-04-07T00:00:00+00:00", "_count": 3}
      """

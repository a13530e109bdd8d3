Feature: hourly buckets of records written through the write API

  Scenario: #72 group by hour over two days
    Given a data set "hour" with settings:
      | setting    | value      |
      | data_group | hourly     |
      | data_type  | timestamps |
    And I use the bearer token for the data set
    When I POST "hourly_timestamps.json" to "/data/hourly/timestamps"
    Then the status is 200
    When I GET "/data/hourly/timestamps?period=hour&start_at=2013-04-01T13:00:00Z&end_at=2013-04-03T13:00:00Z"
    Then the status is 200
    And the response has 48 results
    And result 1 is:
      """
      {"_start_at": "2013-04-01T13:00:00+00:00", "_end_at": "2013-04-01T14:00:00+00:00", "_count": 1}
      """
    And result 2 is:
      """
      {"_start_at": "2013-04-01T14:00:00+00:00", "_end_at": "2013-04-01T15:00:00+00:00", "_count": 3}
      """
    And result 48 is:
      """
      {"_start_at": "2013-04-03T12:00:00+00:00", "_end_at": "2013-04-03T13:00:00+00:00", "_count": 0}
      """

Feature: monthly buckets of records written through the write API

  Background:
    Given a data set "month" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the bearer token for the data set
    When I POST "monthly_timestamps.json" to "/data/group/type"
    Then the status is 200

  Scenario: #73 month bounds on the first of the month
    When I GET "/data/group/type?period=month&start_at=2013-05-01T00:00:00Z&end_at=2013-07-01T00:00:00Z"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2013-05-01T00:00:00+00:00", "_end_at": "2013-06-01T00:00:00+00:00", "_count": 1},
       {"_start_at": "2013-06-01T00:00:00+00:00", "_end_at": "2013-07-01T00:00:00+00:00", "_count": 1}]
      """

  Scenario: #74 month bounds elsewhere are refused
    When I GET "/data/group/type?period=month&start_at=2013-05-02T00:00:00Z&end_at=2013-07-01T00:00:00Z"
    Then the status is 400
    And the message is "'start_at' must be the first of the month for period=month queries"

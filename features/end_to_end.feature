Feature: writing through the write app and reading through the read app

  Scenario: #92 write
    Given a data set "reptiles" with settings:
      | setting             | value     |
      | data_group          | reptiles  |
      | data_type           | fertility |
      | raw_queries_allowed | true      |
    And I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/reptiles/fertility"
    Then the status is 200

  Scenario: #93 write then read
    Given a data set "reptiles" with settings:
      | setting             | value     |
      | data_group          | reptiles  |
      | data_type           | fertility |
      | raw_queries_allowed | true      |
    And I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/reptiles/fertility"
    Then the status is 200
    When I GET "/reptiles?filter_by=size:big"
    Then the status is 200
    And the response has 2 results
    And the results' "size" values are ["big", "big"]

  Scenario: #94 events become weekly groups
    Given a data set "flavour_events" with settings:
      | setting    | value   |
      | data_group | flavour |
      | data_type  | events  |
    And I use the bearer token for the data set
    When I POST "grouped_timestamps.json" to "/data/flavour/events"
    Then the status is 200
    When I GET "/flavour_events?period=week&group_by=flavour&start_at=2013-03-18T00:00:00Z&end_at=2013-04-08T00:00:00Z"
    Then the status is 200
    And the response has 4 results
    And the results' "flavour" values are ["beetroot", "cherry", "lemon", "lime"]
    And the results' "_count" values are [3, 1, 8, 6]
    And the value counts of result 1 are [0, 1, 2]
    And the value counts of result 2 are [0, 0, 1]
    And the value counts of result 3 are [2, 4, 2]
    And the value counts of result 4 are [3, 2, 1]

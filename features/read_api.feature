Feature: reading a data set
  The read API answers every record of a data set that allows raw queries, and 404 for a
  data set nobody configured.

  Scenario: #1 getting all the data
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo"
    Then the status is 200
    And the response has 6 results

  Scenario: #2 a data set whose records are read raw
    Given "dinosaurs.json" is in data set "rawr" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/rawr"
    Then the status is 200
    And the response has 4 results

  Scenario: #3 an unknown data set
    When I GET "/foobar"
    Then the status is 404
    And the body is:
      """
      {"status": "error", "message": "data_set not found"}
      """

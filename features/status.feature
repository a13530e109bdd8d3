Feature: freshness of every data set (/_status/data-sets)
  "Last updated" is the write time of the newest record, not its _timestamp.

  Scenario: #68 an in-date data set
    Given a data set "recent" with settings:
      | setting          | value |
      | max_age_expected | 60    |
    And data set "recent" received a record timestamped 10 seconds ago
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "data_sets": null, "message": "All data_sets are in date"}
      """

  Scenario: #69 an out-of-date data set
    Given a data set "recent" with settings:
      | setting          | value |
      | max_age_expected | 1     |
    And data set "recent" received a record timestamped 10 seconds ago
    And 2 seconds pass
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body's "status" is "not okay"
    And the header "Access-Control-Allow-Origin" is "*"
    And the header "Cache-Control" is "no-cache"
    And the body's "message" is "1 data-set is out of date"
    And the body's "data_sets.0.name" is "recent"
    And the body's "data_sets.0.max-age-expected" is 1
    And the body's "data_sets.0.seconds-out-of-date" lies between 1 and 10

  Scenario: #70 an unmonitored data set
    Given a data set "recent" with settings:
      | setting          | value |
      | max_age_expected | null  |
    And data set "recent" received a record timestamped 10 seconds ago
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body's "status" is "ok"

  Scenario: no data sets at all are in date
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "data_sets": null, "message": "All data_sets are in date"}
      """

  Scenario: a data set without records is in date
    Given a data set "empty" with settings:
      | setting          | value |
      | max_age_expected | 0     |
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body's "status" is "ok"

  Scenario: several late data sets are counted in the message
    Given a data set "first" with settings:
      | setting          | value |
      | max_age_expected | 0     |
    And a data set "second" with settings:
      | setting          | value |
      | max_age_expected | 0     |
    And a data set "third" with settings:
      | setting          | value |
      | max_age_expected | 3600  |
    And data set "first" received a record timestamped 10 seconds ago
    And data set "second" received a record timestamped 10 seconds ago
    And data set "third" received a record timestamped 10 seconds ago
    When I GET "/_status/data-sets"
    Then the status is 200
    And the body's "status" is "not okay"
    And the body's "message" is "2 data-sets are out of date"
    And the "name" values of the body's "data_sets" are ["first", "second"] in any order

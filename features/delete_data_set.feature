Feature: deleting a data set through the admin API

  Scenario: #89 deleting a data set removes its records
    Given a data set "some-dataset" with settings:
      | setting             | value      |
      | data_group          | data-group |
      | data_type           | data-type  |
      | raw_queries_allowed | true       |
    And I use the bearer token for the data set
    When I POST to "/data/data-group/data-type" with body:
      """
      {"_timestamp": "2014-09-10T12:00:00Z", "foo": "bar"}
      """
    Then the status is 200
    And data set "some-dataset" holds 1 record
    Given I use the admin token
    When I send DELETE "/data-sets/some-dataset" to the write app
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "message": "Deleted some-dataset"}
      """
    When I GET "/some-dataset"
    Then the status is 404
    Given a data set "some-dataset" with settings:
      | setting             | value      |
      | data_group          | data-group |
      | data_type           | data-type  |
      | raw_queries_allowed | true       |
    Then data set "some-dataset" holds 0 records

  Scenario: #90 deleting a data set nobody configured
    Given I use the admin token
    When I send DELETE "/data-sets/some-dataset" to the write app
    Then the status is 404
    And the message is "No collection exists with name "some-dataset""

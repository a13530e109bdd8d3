Feature: an inclusive end_at

  Background:
    Given "inclusive.json" is in data set "foo" with settings:
      | setting             | value |
      | data_group          | foo   |
      | data_type           | bar   |
      | raw_queries_allowed | true  |

  Scenario: #58 end_at is exclusive by default
    When I GET "/data/foo/bar?start_at=2014-12-01T00:00:00%2B00:00&end_at=2014-12-03T00:00:00%2B00:00"
    Then the status is 200
    And the response has 2 results

  Scenario: #59 inclusive=true includes end_at
    When I GET "/data/foo/bar?start_at=2014-12-01T00:00:00%2B00:00&end_at=2014-12-03T00:00:00%2B00:00&inclusive=true"
    Then the status is 200
    And the response has 3 results

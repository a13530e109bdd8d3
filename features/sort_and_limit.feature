Feature: sorting and limiting results

  Scenario: #44 sort ascending
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?sort_by=value:ascending"
    Then the status is 200
    And the "value" of result 1 is 3
    And the "value" of the last result is 8
    And the results' "value" values are [3, 3, 4, 7, 8, 8]

  Scenario: #45 sort descending
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?sort_by=value:descending"
    Then the status is 200
    And the "value" of result 1 is 8
    And the "value" of the last result is 3
    And the results' "value" values are [8, 8, 7, 4, 3, 3]

  Scenario: #46 limit
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?limit=3"
    Then the status is 200
    And the response has 3 results

  Scenario: #47 sort and limit a grouped query
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&sort_by=_count:ascending&limit=1"
    Then the status is 200
    And the response has 1 result
    And the "type" of result 1 is "domestic"
    And the data is:
      """
      [{"type": "domestic", "_count": 2}]
      """

  Scenario: #48 sort a period-grouped query
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?group_by=authority&period=week&sort_by=_count:descending&start_at=2012-12-03T00:00:00Z&end_at=2012-12-17T00:00:00Z"
    Then the status is 200
    And the response has 2 results
    And the "authority" of result 1 is "Westminster"
    And the results' "_count" values are [4, 1]

  Scenario: #49 an ungrouped period query cannot be limited
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?period=week&limit=1&start_at=2012-12-03T00:00:00Z&end_at=2012-12-17T00:00:00Z"
    Then the status is 400
    And the message is "A period query can only be limited if it is grouped - please add 'group_by'"

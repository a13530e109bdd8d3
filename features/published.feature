Feature: published and unpublished data sets

  Scenario: #61 a published data set
    Given a data set "published_data_set" with settings:
      | setting             | value |
      | published           | true  |
      | raw_queries_allowed | true  |
    When I GET "/published_data_set"
    Then the status is 200
    And the body is:
      """
      {"data": []}
      """

  Scenario: #62 an unpublished data set answers with a warning
    Given a data set "unpublished_data_set" with settings:
      | setting             | value |
      | published           | false |
      | raw_queries_allowed | true  |
    When I GET "/unpublished_data_set"
    Then the status is 200
    And the body is:
      """
      {"data": [], "warning": "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."}
      """

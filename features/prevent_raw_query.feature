Feature: data sets that refuse raw queries

  Scenario: #60 a raw query is refused
    Given a data set "some_data_set" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    When I GET "/data/group/type?filter_by=name:foo"
    Then the status is 400
    And the message is "querying for raw data is not allowed"

Feature: licensing data as the licensing service sent it

  Scenario: #91 posting licensing data (offsets like +0000, camelCase keys)
    Given a data set "licensing" with settings:
      | setting             | value     |
      | data_group          | licensing |
      | data_type           | volume    |
      | raw_queries_allowed | true      |
    And I use the bearer token for the data set
    When I POST "SubmittedApplicationsReport.json" to "/data/licensing/volume"
    Then the status is 200
    And data set "licensing" holds 16 records
    And data set "licensing" holds 1 record whose "_id" is "west-lancashire-1063"
    And data set "licensing" holds 2 records whose "_timestamp" is "2013-02-25T15:09:56+00:00"
    And data set "licensing" holds 1 record whose "_timestamp" is "2013-02-25T15:09:54+00:00"

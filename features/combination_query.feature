Feature: queries combining filters, periods, groups, collects, sorting and limits

  Background:
    Given "licensing_preview.json" is in data set "licensing" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |

  Scenario: #40 weekly data for the top 3 licences of an authority
    When I GET "/licensing?group_by=licenceUrlSlug&filter_by=authorityUrlSlug:testport&start_at=2013-01-28T00:00:00%2B00:00&end_at=2013-03-29T00:00:00%2B00:00&period=week&collect=authorityName&collect=licenceName&sort_by=_count:descending&limit=3"
    Then the status is 200
    And the response has 3 results
    And the "licenceUrlSlug" of result 1 is "fake-licence-3"
    And the values of result 1 include:
      """
      {"_start_at": "2013-01-28T00:00:00+00:00", "_end_at": "2013-02-04T00:00:00+00:00", "_count": 2}
      """
    And the values of result 1 include:
      """
      {"_start_at": "2013-02-04T00:00:00+00:00", "_end_at": "2013-02-11T00:00:00+00:00", "_count": 5}
      """
    And the results' "licenceUrlSlug" values are ["fake-licence-3", "fake-licence-1", "fake-licence-2"]
    And the results' "_count" values are [16, 13, 12]
    And result 1 has 9 values
    And result 2 has 9 values
    And result 3 has 9 values
    And the value counts of result 1 are [2, 5, 0, 0, 0, 4, 3, 1, 1]
    And the "authorityName" of result 1 is ["City of TestPort Council"]
    And the "licenceName" of result 1 is ["Fake Licence 3"]

  Scenario: #41 the same with a prefix filter
    When I GET "/licensing?group_by=licenceUrlSlug&filter_by_prefix=authorityUrlSlug:testp&start_at=2013-01-28T00:00:00%2B00:00&end_at=2013-03-29T00:00:00%2B00:00&period=week&collect=authorityName&collect=licenceName&sort_by=_count:descending&limit=3"
    Then the status is 200
    And the response has 3 results
    And the "licenceUrlSlug" of result 1 is "fake-licence-3"
    And the values of result 1 include:
      """
      {"_start_at": "2013-01-28T00:00:00+00:00", "_end_at": "2013-02-04T00:00:00+00:00", "_count": 2}
      """
    And the values of result 1 include:
      """
      {"_start_at": "2013-02-04T00:00:00+00:00", "_end_at": "2013-02-11T00:00:00+00:00", "_count": 5}
      """
    And the results' "licenceUrlSlug" values are ["fake-licence-3", "fake-licence-1", "fake-licence-2"]
    And the results' "_count" values are [16, 13, 12]

  Scenario: #42 weekly data of an authority
    When I GET "/licensing?filter_by=authorityUrlSlug:testport&start_at=2013-02-04T00:00:00%2B00:00&end_at=2013-03-29T00:00:00%2B00:00&period=week"
    Then the status is 200
    And the response has 8 results
    And the data is:
      """
      [{"_start_at": "2013-02-04T00:00:00+00:00", "_end_at": "2013-02-11T00:00:00+00:00", "_count": 10},
       {"_start_at": "2013-02-11T00:00:00+00:00", "_end_at": "2013-02-18T00:00:00+00:00", "_count": 0},
       {"_start_at": "2013-02-18T00:00:00+00:00", "_end_at": "2013-02-25T00:00:00+00:00", "_count": 0},
       {"_start_at": "2013-02-25T00:00:00+00:00", "_end_at": "2013-03-04T00:00:00+00:00", "_count": 0},
       {"_start_at": "2013-03-04T00:00:00+00:00", "_end_at": "2013-03-11T00:00:00+00:00", "_count": 16},
       {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 21},
       {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 1},
       {"_start_at": "2013-03-25T00:00:00+00:00", "_end_at": "2013-04-01T00:00:00+00:00", "_count": 4}]
      """

  Scenario: #43 licences of an authority
    When I GET "/licensing?group_by=licenceUrlSlug&filter_by=authorityUrlSlug:testport&start_at=2013-01-28T00:00:00%2B00:00&end_at=2013-03-29T00:00:00%2B00:00&collect=authorityName&collect=licenceName"
    Then the status is 200
    And the response has 6 results
    And the "licenceUrlSlug" of result 2 is "fake-licence-2"
    And the "_count" of result 2 is 12
    And the "licenceName" of result 2 contains "Fake Licence 2"
    And the "licenceUrlSlug" of result 5 is "fake-licence-5"
    And the "_count" of result 5 is 12
    And the "licenceName" of result 5 contains "Fake Licence 5"
    And the results' "_count" values are [13, 12, 16, 8, 12, 11]

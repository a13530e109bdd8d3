Feature: collecting values of grouped records

  Scenario: #30 collect on a grouped query
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?collect=authority&group_by=licence_name"
    Then the status is 200
    And the "licence_name" of result 1 is "Cat herding licence"
    And the "authority" of result 1 contains "Westminster"
    And the "authority" of result 2 contains "Westminster"
    And the "authority" of result 2 contains "Camden"
    And the "authority:set" of result 2 is ["Camden", "Westminster"]
    And the data is:
      """
      [{"licence_name": "Cat herding licence", "_count": 1,
        "authority": ["Westminster"], "authority:set": ["Westminster"]},
       {"licence_name": "Temporary events notice", "_count": 4,
        "authority": ["Camden", "Westminster"], "authority:set": ["Camden", "Westminster"]}]
      """

  Scenario: #31 collect on a period-grouped query
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?collect=authority&period=week&group_by=licence_name&start_at=2012-12-03T00:00:00Z&end_at=2012-12-17T00:00:00Z"
    Then the status is 200
    And the results' "licence_name" values are ["Cat herding licence", "Temporary events notice"]
    And the "authority" of result 2 contains "Westminster"
    And the "authority" of result 2 contains "Camden"
    And the "authority:set" of result 2 is ["Camden", "Westminster"]
    And the value counts of result 1 are [1, 0]
    And the value counts of result 2 are [0, 4]

  Scenario: #32 collect needs grouping
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?collect=authority"
    Then the status is 400
    And the message is "collect can be used only with either ['group_by', 'period']"

  Scenario: #33 collecting false values
    Given "licensing_2.json" is in data set "foo"
    When I GET "/foo?group_by=licence_name&filter_by=isPaymentRequired:false&collect=isPaymentRequired"
    Then the status is 200
    And the "isPaymentRequired" of result 1 contains false
    And the "isPaymentRequired" of result 1 is [false]

  Scenario: #34 sum and mean
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&filter_by=type:wild&collect=value:sum&collect=value:mean"
    Then the status is 200
    And the "value:sum" of result 1 is 27
    And the "value:mean" of result 1 is 6.75
    And the data is:
      """
      [{"type": "wild", "_count": 4, "value:sum": 27, "value:mean": 6.75}]
      """

  Scenario: #35 sum and mean with a prefix filter
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&filter_by_prefix=type:wild&collect=value:sum&collect=value:mean"
    Then the status is 200
    And the "value:sum" of result 1 is 27
    And the "value:mean" of result 1 is 6.75

  Scenario: #36 sum and mean, flattened
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&filter_by=type:wild&collect=value:sum&collect=value:mean&flatten=true"
    Then the status is 200
    And the "type" of result 1 is "wild"
    And the "value:sum" of result 1 is 27
    And the "value:mean" of result 1 is 6.75

  Scenario: #37 sums in sub groups
    Given "evl_volumetrics.json" is in data set "foo"
    When I GET "/foo?period=month&group_by=channel&collect=volume:sum&start_at=2012-04-01T00:00:00Z&end_at=2012-05-01T00:00:00Z"
    Then the status is 200
    And the "channel" of result 1 is "assisted-digital"
    And the "volume:sum" of result 1 is 1862526.0
    And the values of result 1 include:
      """
      {"_start_at": "2012-04-01T00:00:00+00:00", "_end_at": "2012-05-01T00:00:00+00:00", "volume:sum": 1862526.0}
      """
    And the results' "channel" values are ["assisted-digital", "fully-digital", "manual"]
    And the results' "volume:sum" values are [1862526.0, 1718947.0, 92595.0]

  Scenario: #38 summing text skips it (sums skip non-numbers: 200 with a sum of 0, not the original's 400)
    Given "dinosaurs.json" is in data set "foo"
    When I GET "/foo?group_by=type&collect=name:sum"
    Then the status is 200
    And the data is:
      """
      [{"type": "dinosaur", "_count": 4, "name:sum": 0}]
      """

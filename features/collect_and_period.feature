Feature: collecting values per period

  Scenario: #39 period and collect
    Given "collectables.json" is in data set "collect_me"
    When I GET "/collect_me?period=week&collect=pickup&start_at=2013-08-05T00:00:00Z&end_at=2013-08-12T00:00:00Z"
    Then the status is 200
    And the response has 1 result
    And result 1 is:
      """
      {"_count": 2, "pickup:set": ["mushroom", "ring"], "pickup": ["mushroom", "ring"],
       "_start_at": "2013-08-05T00:00:00+00:00", "_end_at": "2013-08-12T00:00:00+00:00"}
      """

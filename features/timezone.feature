Feature: periods counted on the clocks of a time zone (timezone=)

  Background:
    Given "london_spring_forward.json" is in data set "visits" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |

  Scenario: days start at London midnight and carry the local offset; the spring day has 23 hours
    When I GET "/data/visits/visits?period=day&start_at=2026-03-28T00:00:00Z&end_at=2026-03-31T00:00:00%2B01:00&timezone=Europe/London&collect=visits:sum"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2026-03-28T00:00:00+00:00", "_end_at": "2026-03-29T00:00:00+00:00", "_count": 0, "visits:sum": null},
       {"_start_at": "2026-03-29T00:00:00+00:00", "_end_at": "2026-03-30T00:00:00+01:00", "_count": 2, "visits:sum": 3},
       {"_start_at": "2026-03-30T00:00:00+01:00", "_end_at": "2026-03-31T00:00:00+01:00", "_count": 2, "visits:sum": 12}]
      """

  Scenario: the same records in UTC days, as without timezone
    When I GET "/data/visits/visits?period=day&start_at=2026-03-28T00:00:00Z&end_at=2026-03-31T00:00:00Z&collect=visits:sum"
    Then the status is 200
    And the results' "_count" values are [0, 3, 1]
    And the "_start_at" of result 2 is "2026-03-29T00:00:00+00:00"

  Scenario: an unknown zone is refused
    When I GET "/data/visits/visits?period=day&start_at=2026-03-28T00:00:00Z&end_at=2026-03-31T00:00:00Z&timezone=europe/london"
    Then the status is 400
    And the message is "timezone must be a valid IANA time zone name"

  Scenario: timezone without period is refused
    When I GET "/data/visits/visits?group_by=visits&timezone=Europe/London"
    Then the status is 400
    And the message is "timezone needs period"

  Scenario: a data set's default zone, and timezone=UTC overriding it
    Given a data set "local" with settings:
      | setting  | value         |
      | timezone | Europe/London |
    And I use the bearer token for the data set
    When I POST "london_spring_forward.json" to "/data/local/local"
    Then the status is 200
    When I GET "/data/local/local?period=week&start_at=2026-03-23T00:00:00Z&end_at=2026-04-06T00:00:00%2B01:00"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2026-03-23T00:00:00+00:00", "_end_at": "2026-03-30T00:00:00+01:00", "_count": 2},
       {"_start_at": "2026-03-30T00:00:00+01:00", "_end_at": "2026-04-06T00:00:00+01:00", "_count": 2}]
      """
    When I GET "/data/local/local?period=week&start_at=2026-03-23T00:00:00Z&end_at=2026-04-06T00:00:00Z&timezone=UTC"
    Then the status is 200
    And the results' "_count" values are [3, 1]
    And the "_end_at" of result 1 is "2026-03-30T00:00:00+00:00"

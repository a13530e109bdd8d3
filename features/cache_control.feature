Feature: caching headers of the read API

  Scenario: #63 the status page is never cached
    When I GET "/_status"
    Then the status is 200
    And the header "Cache-Control" is "no-cache"

  Scenario: #64 a data response carries an ETag
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo"
    Then the status is 200
    And the header "ETag" is not empty

  # The original tagged a 400 here (raw queries refused); only 200s are tagged now, so the
  # data set allows raw queries.
  Scenario: #65 a matching If-None-Match gives 304
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo"
    Then the status is 200
    When I GET "/foo" again with its ETag
    Then the status is 304
    And the body is empty

  Scenario: #66 a non-realtime data set is cached for 30 minutes
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
      | realtime            | false |
      | published           | true  |
    When I GET "/foo"
    Then the status is 200
    And the header "Cache-Control" is "max-age=1800, must-revalidate"

  Scenario: #67 a realtime data set is cached for 2 minutes
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
      | realtime            | true  |
      | published           | true  |
    When I GET "/foo"
    Then the status is 200
    And the header "Cache-Control" is "max-age=120, must-revalidate"

Feature: paging through raw queries with page_token

  Pages follow _timestamp (records without one first), then _id; each page's answer links
  to the next one (`next` in the body, a `Link` header) until the last.

  Scenario: walking a few thousand records page by page gets each record once, in order
    Given 3000 records are in data set "pages", 40 of them without a timestamp
    When I walk "/pages?limit=400&page_token=" page by page
    Then there are 7 pages of 400 and a last page of 200
    And the pages hold every posted record once, in _timestamp then _id order

  Scenario: records written during a walk neither repeat nor hide the older ones
    Given 1000 records are in data set "busy", 10 of them without a timestamp
    When I walk "/data/busy/busy?limit=300&page_token=" page by page, posting an older and a newer record after the first page
    Then the pages hold every posted record once, in _timestamp then _id order
    And the walk ends with "z-newer"

  Scenario: the first page is asked for with an empty page_token and links to the next
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?limit=4&page_token="
    Then the status is 200
    And the response has 4 results
    And the body's "next" starts with "/foo?limit=4&page_token="
    And the header "Link" starts with "</foo?limit=4&page_token="

  Scenario: the last page has neither a next link nor a Link header
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?limit=4&page_token="
    And I follow the next link
    Then the status is 200
    And the response has 2 results
    And the body has no "next"
    And the header "Link" is absent

  Scenario: the next link repeats the query's filters
    Given "licensing.json" is in data set "licensing" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/licensing?filter_by=authority:Westminster&limit=1&page_token="
    Then the status is 200
    And the response has 1 result
    And the body's "next" starts with "/licensing?filter_by=authority%3AWestminster&limit=1&page_token="
    When I follow the next link
    Then the "authority" of result 1 is "Westminster"

  Scenario: a plain limit answers as it always did
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?limit=3"
    Then the status is 200
    And the response has 3 results
    And the body has no "next"
    And the header "Link" is absent

  Scenario: a malformed page_token is refused
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?limit=3&page_token=not-a-token"
    Then the status is 400
    And the message is "page_token is malformed: use an empty page_token for the first page, then the one in each next link"

  Scenario: sort_by cannot be used with page_token
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?sort_by=value:ascending&limit=3&page_token="
    Then the status is 400
    And the message is "sort_by cannot be used with page_token: pages always follow _timestamp, then _id"

  Scenario: page_token needs a limit
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?page_token="
    Then the status is 400
    And the message is "page_token needs limit: the number of records per page, at least 1"

  Scenario: a data set without raw queries refuses pages as it refuses raw queries
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?limit=3&page_token="
    Then the status is 400
    And the message is "querying for raw data is not allowed"

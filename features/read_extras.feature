Feature: read API behaviours the original features did not cover
  (docs/query-language.md: parameters, shapes, sorting, CSV, value order, errors)

  Scenario: CSV export of a grouped query
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&format=csv"
    Then the status is 200
    And the header "Content-Type" starts with "text/csv"
    And the header "Content-Disposition" is "attachment; filename=export.csv"
    And the header "Cache-Control" is "max-age=1800, must-revalidate"
    And the body is the CSV:
      """
      _count,type
      2,domestic
      4,wild
      """

  Scenario: CSV export writes booleans as true and false
    Given "dinosaurs.json" is in data set "lizards"
    When I GET "/lizards?group_by=eats_people&format=csv"
    Then the status is 200
    And the body is the CSV:
      """
      _count,eats_people
      1,false
      3,true
      """

  Scenario: CSV export writes datetimes as in JSON
    Given "stored_timestamps.json" is in data set "weekly"
    When I GET "/weekly?period=week&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z&format=csv"
    Then the status is 200
    And the body is the CSV:
      """
      _count,_end_at,_start_at
      3,2013-03-18T00:00:00+00:00,2013-03-11T00:00:00+00:00
      2,2013-03-25T00:00:00+00:00,2013-03-18T00:00:00+00:00
      """

  Scenario: an unpublished data set is never cached and never exported as CSV
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting   | value |
      | published | false |
    When I GET "/foo?group_by=type&format=csv"
    Then the status is 200
    And the header "Cache-Control" is "no-cache"
    And the header "Content-Type" starts with "application/json"
    And the body is:
      """
      {"data": [{"type": "domestic", "_count": 2}, {"type": "wild", "_count": 4}],
       "warning": "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."}
      """

  Scenario Outline: OPTIONS pre-flight on <path>
    Given a data set "foo" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    When I send OPTIONS "<path>" to the read app
    Then the status is 200
    And the body is empty
    And the header "Access-Control-Allow-Origin" is "*"
    And the header "Access-Control-Max-Age" is "86400"
    And the header "Access-Control-Allow-Headers" is "cache-control, govuk-request-id, request-id"
    And the header "Allow" lists ["GET", "HEAD", "OPTIONS"]

    Examples:
      | path                             |
      | /foo                             |
      | /data/group/type                 |
      | /data/group/type?not_a_param=1   |

  Scenario: HEAD answers like GET without a body
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I send HEAD "/foo" to the read app
    Then the status is 200
    And the body is empty
    And the header "Cache-Control" is "max-age=1800, must-revalidate"

  Scenario Outline: errors carry the CORS header too (<path>)
    Given "licensing.json" is in data set "foo"
    When I send <method> "<path>" to the read app
    Then the status is <status>
    And the header "Access-Control-Allow-Origin" is "*"
    And the message is "<message>"

    Examples:
      | method | path                | status | message                                |
      | GET    | /nope               | 404    | data_set not found                     |
      | GET    | /data/nope/nope     | 404    | data_set not found                     |
      | GET    | /foo?_=123          | 400    | An unrecognised parameter was provided |
      | GET    | /data/a/b/c         | 404    | Not Found                              |
      | GET    | /data/a             | 404    | Not Found                              |
      | POST   | /foo                | 405    | Method Not Allowed                     |
      | POST   | /data/foo/foo       | 405    | Method Not Allowed                     |

  Scenario: GET / describes the read app instead of answering 404
    When I send GET "/" to the read app
    Then the status is 200
    And the header "Access-Control-Allow-Origin" is "*"
    And the body's "app" is "read"
    And the body's "links.openapi" is "/openapi.json"
    And the body's "links.query_language" is "docs/query-language.md"

  Scenario: 304 on /data/<group>/<type> as on the legacy route
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | data_group          | group |
      | data_type           | type  |
      | raw_queries_allowed | true  |
    When I GET "/data/group/type"
    Then the status is 200
    And the header "ETag" is not empty
    When I GET "/data/group/type" again with its ETag
    Then the status is 304
    And the body is empty

  Scenario: a write makes earlier answers stale (ETag and cache follow the data)
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo"
    Then the response has 6 results
    And I remember the ETag
    Given I use the bearer token for the data set
    When I POST to "/data/foo/foo" with body:
      """
      {"_timestamp": "2012-12-20T00:00:00Z", "authority": "Camden"}
      """
    Then the status is 200
    When I GET "/foo" with the remembered ETag
    Then the status is 200
    And the response has 7 results

  Scenario: a data set that is not queryable does not exist for readers
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | queryable           | false |
      | raw_queries_allowed | true  |
    When I GET "/foo"
    Then the status is 404
    And the message is "data_set not found"
    When I GET "/data/foo/foo"
    Then the status is 404
    And the message is "data_set not found"
    When I send OPTIONS "/foo" to the read app
    Then the status is 404

  Scenario: start_at must come before end_at
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?start_at=2012-12-14T00:00:00Z&end_at=2012-12-12T00:00:00Z"
    Then the status is 400
    And the message is "start_at must be before end_at"

  Scenario Outline: unrecognised parameters are refused (<query>)
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?<query>"
    Then the status is 400
    And the message is "An unrecognised parameter was provided"

    Examples:
      | query                   |
      | _=1388534400            |
      | callback=jsonp          |
      | filter=authority:Camden |

  Scenario Outline: field names with $ or dots are refused (<query>)
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?<query>"
    Then the status is 400
    And the message is "<message>"

    Examples:
      | query                                  | message                                |
      | filter_by=$where:1                     | Cannot filter by an invalid field name |
      | filter_by=authority.name:x             | Cannot filter by an invalid field name |
      | filter_by=authority'--:x               | Cannot filter by an invalid field name |
      | filter_by_prefix=a.b:x                 | Cannot filter by an invalid field name |
      | group_by=$where                        | Cannot group by an invalid field name  |
      | group_by=authority.name                | Cannot group by an invalid field name  |
      | group_by=authority&group_by=$where     | Cannot group by an invalid field name  |
      | sort_by=$natural:ascending             | Cannot sort by an invalid field name   |
      | sort_by=authority.name:descending      | Cannot sort by an invalid field name   |
      | group_by=authority&collect=$where      | Cannot collect an invalid field name   |
      | group_by=authority&collect=a.b:sum     | Cannot collect an invalid field name   |

  Scenario Outline: a filter value is data, never query text (<query>)
    Given "licensing.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?<query>"
    Then the status is 200
    And the response has 0 results
    When I GET "/foo"
    Then the response has 6 results

    Examples:
      | query                                                        |
      | filter_by=authority:Camden'%20OR%20'1'='1                     |
      | filter_by=authority:x');%20DROP%20TABLE%20records;%20--      |
      | filter_by=authority:%25                                       |
      | filter_by_prefix=authority:%25                                |
      | filter_by_prefix=authority:C_mden                             |
      | filter_by_prefix=authority:camden                             |

  Scenario: a filter value is compared as text, so "3" does not match the number 3
    Given "sort_and_limit.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    When I GET "/foo?filter_by=value:3"
    Then the status is 200
    And the response has 0 results

  Scenario: grouped results sorted by a collected value
    Given "sort_and_limit.json" is in data set "foo"
    When I GET "/foo?group_by=type&collect=value:sum&sort_by=value:sum:descending"
    Then the status is 200
    And the data is:
      """
      [{"type": "wild", "_count": 4, "value:sum": 27}, {"type": "domestic", "_count": 2, "value:sum": 6}]
      """

  Scenario: a period query spanning too many periods is refused at once
    Given "licensing.json" is in data set "foo"
    When I GET "/foo?period=hour&duration=100001"
    Then the status is 400
    And the message is "Query would return too many periods"

Feature: a NUL or a surrogate in a request is a 400 that says so, on every engine

  Scenario Outline: a NUL in a path or query parameter (<method> <path> on the <app> app)
    Given a data set "foo"
    And I use the admin token
    When I send <method> "<path>" to the <app> app
    Then the status is 400
    And the message is "Paths and query parameters cannot contain the NUL character (U+0000)"

    Examples:
      | app   | method | path                          |
      | read  | GET    | /data/foo%00/foo              |
      | read  | GET    | /foo%00                       |
      | read  | GET    | /data/foo/foo?filter_by=a:b%00 |
      | read  | GET    | /data/foo/foo?group%00by=a    |
      | write | GET    | /data-sets/foo%00             |
      | write | DELETE | /data-sets/foo%00             |
      | write | POST   | /data/foo%00/foo              |
      | write | POST   | /foo%00                       |
      | write | DELETE | /data/foo/foo/id%00           |
      | write | GET    | /dashboards/x%00              |

  Scenario Outline: a lone surrogate in a path or query string (<path> on the <app> app)
    Given a data set "foo"
    And I use the admin token
    When I send GET "<path>" to the <app> app
    Then the status is 400
    And the message is "Paths and query parameters cannot contain surrogate code points (U+D800 to U+DFFF): they must be valid UTF-8"

    Examples:
      | app   | path                               |
      | read  | /data/foo%ED%A0%80/foo             |
      | read  | /data/foo/foo?filter_by=a:%ED%B0%80 |
      | write | /data-sets/foo%ED%A0%80            |

  Scenario Outline: a lone surrogate in a JSON body (<body>)
    Given a data set "foo"
    And I use the bearer token for the data set
    When I POST to "/data/foo/foo" with body:
      """
      <body>
      """
    Then the status is 400
    And the message starts with "Error parsing JSON: "no low surrogate in string"

    Examples:
      | body                 |
      | {"text\ud800": 1}    |
      | {"text": "a\ud800"}  |

  Scenario: a NUL inside a string value still round-trips
    Given a data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    And I use the bearer token for the data set
    When I POST to "/data/foo/foo" with body:
      """
      {"_id": "a\u0000b", "text": "x\u0000y"}
      """
    Then the status is 200
    When I GET "/data/foo/foo"
    Then the "text" of result 1 is "x\u0000y"
    And the "_id" of result 1 is "a\u0000b"

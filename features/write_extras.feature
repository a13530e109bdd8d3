Feature: write API behaviours the original features did not cover
  (docs/write-api.md: order of checks, bodies, record rules, batches, PUT/PATCH/DELETE)

  Background:
    Given a data set "foo" with settings:
      | setting             | value |
      | data_group          | group |
      | data_type           | type  |
      | raw_queries_allowed | true  |

  Scenario: an unknown data set is 404 before any authentication
    When I POST to "/data/nope/nope" with body:
      """
      []
      """
    Then the status is 404
    And the message is "Could not find data_set_config"

  Scenario: PUT [] empties a data set
    Given I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/group/type"
    Then data set "foo" holds 4 records
    When I PUT to "/data/group/type" with body:
      """
      []
      """
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "message": "foo now contains 0 records"}
      """
    And data set "foo" holds 0 records

  Scenario Outline: PUT with anything but [] is refused and changes nothing (<body>)
    Given I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/group/type"
    And I send PUT "/data/group/type" to the write app with body:
      """
      <body>
      """
    Then the status is 400
    And the message is "Not implemented: you can only pass an empty JSON list"
    And data set "foo" holds 4 records

    Examples:
      | body                     |
      | [{"name": "t-rex"}]      |
      | {}                       |

  Scenario: a record with an existing _id replaces it
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      {"_id": "first", "foo": "bar", "gone": 1}
      """
    And I POST to "/data/group/type" with body:
      """
      {"_id": "first", "foo": "foo"}
      """
    Then the status is 200
    And data set "foo" holds 1 record
    And data set "foo" holds 1 record whose "foo" is "foo"
    And data set "foo" holds 0 records whose "gone" is 1

  Scenario: PATCH merges fields into a record and recomputes its period keys
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      {"_id": "abc", "_timestamp": "2014-01-01T00:00:00Z", "foo": "bar", "keep": 1}
      """
    And I PATCH to "/data/group/type/abc" with body:
      """
      {"foo": "baz", "_timestamp": "2014-02-05T12:00:00Z"}
      """
    Then the status is 200
    And the body is:
      """
      {"status": "ok"}
      """
    And data set "foo" holds 1 record
    And data set "foo" holds 1 record whose "_id" is "abc"
    And data set "foo" holds 1 record whose "foo" is "baz"
    And data set "foo" holds 1 record whose "keep" is 1
    And data set "foo" holds 1 record whose "_timestamp" is "2014-02-05T12:00:00+00:00"
    And data set "foo" holds 1 record whose "_week_start_at" is "2014-02-03T00:00:00+00:00"

  Scenario: PATCH validates the merged record
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      {"_id": "abc", "foo": "bar"}
      """
    And I PATCH to "/data/group/type/abc" with body:
      """
      {"bad-key": 1}
      """
    Then the status is 400
    And the body mentions "bad-key is not a valid key"
    And data set "foo" holds 1 record whose "foo" is "bar"

  Scenario Outline: PATCH and DELETE of an unknown id (<method>)
    Given I use the bearer token for the data set
    When I send <method> "/data/group/type/nope" to the write app with body:
      """
      {"foo": "bar"}
      """
    Then the status is 400
    And the body is:
      """
      {"messages": "No record found with id nope"}
      """

    Examples:
      | method |
      | PATCH  |
      | DELETE |

  Scenario: DELETE one record
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      [{"_id": "abc", "foo": "bar"}, {"_id": "def", "foo": "baz"}]
      """
    And I send DELETE "/data/group/type/abc" to the write app
    Then the status is 200
    And the body is:
      """
      {"status": "ok"}
      """
    And data set "foo" holds 1 record
    And data set "foo" holds 1 record whose "_id" is "def"

  Scenario: DELETE a record whose auto id holds a "/" (percent-encoded in the path)
    Given a data set "slashes" with settings:
      | setting             | value    |
      | auto_ids            | ["name"] |
      | raw_queries_allowed | true     |
    And I use the bearer token for the data set
    When I POST to "/data/slashes/slashes" with body:
      """
      [{"name": "???"}, {"name": "other"}]
      """
    Then the status is 200
    And data set "slashes" holds 1 record whose "_id" is "Pz8/"
    When I send DELETE "/data/slashes/slashes/Pz8%2F" to the write app
    Then the status is 200
    And data set "slashes" holds 1 record
    And data set "slashes" holds 0 records whose "_id" is "Pz8/"

  Scenario: one bad record rejects the whole batch
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      [{"_timestamp": "2014-01-01T00:00:00Z", "name": "fine"}, {"_foo": "bar"}]
      """
    Then the status is 400
    And the body is:
      """
      {"messages": ["_foo is not a recognised internal field"],
       "errors": [{"index": 1, "message": "_foo is not a recognised internal field"}]}
      """
    And data set "foo" holds 0 records

  Scenario: an integer beyond 64 bits is refused naming the field; 64-bit integers and doubles round-trip
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      [{"_id": "a", "count": 1}, {"_id": "b", "count": 100000000000000000000000000000}]
      """
    Then the status is 400
    And the body is:
      """
      {"messages": ["count has an integer outside the 64-bit range: integers must lie between -9223372036854775808 and 9223372036854775807 (send a larger number as a double, such as 1e30, or as a string)"],
       "errors": [{"index": 1, "message": "count has an integer outside the 64-bit range: integers must lie between -9223372036854775808 and 9223372036854775807 (send a larger number as a double, such as 1e30, or as a string)"}]}
      """
    And data set "foo" holds 0 records
    When I POST to "/data/group/type" with body:
      """
      {"_id": "c", "count": 9223372036854775807, "low": -9223372036854775808, "huge": 1e30}
      """
    Then the status is 200
    And data set "foo" holds 1 record whose "count" is 9223372036854775807
    And data set "foo" holds 1 record whose "low" is -9223372036854775808
    And data set "foo" holds 1 record whose "huge" is 1e30
    When I PATCH to "/data/group/type/c" with body:
      """
      {"count": -9223372036854775809}
      """
    Then the status is 400
    And the body is:
      """
      {"messages": ["count has an integer outside the 64-bit range: integers must lie between -9223372036854775808 and 9223372036854775807 (send a larger number as a double, such as 1e30, or as a string)"],
       "errors": [{"index": 0, "message": "count has an integer outside the 64-bit range: integers must lie between -9223372036854775808 and 9223372036854775807 (send a larger number as a double, such as 1e30, or as a string)"}]}
      """
    And data set "foo" holds 1 record whose "count" is 9223372036854775807

  Scenario: every problem of a batch is reported, in stage order (schema, auto ids, dates, per-record checks)
    Given a data set "checked" with settings:
      | setting             | value                                                                                                  |
      | schema              | {"type": "object", "properties": {"_timestamp": {"type": "string", "format": "date-time"}}, "required": ["_timestamp"]} |
      | auto_ids            | ["_timestamp", "that"]                                                                                 |
      | raw_queries_allowed | true                                                                                                   |
    And I use the bearer token for the data set
    When I POST to "/data/checked/checked" with body:
      """
      [{"_timestamp": "2014-06-1xxx0:00:00+0000"}, {"thing": {}}, {"_foo": "bar"}]
      """
    Then the status is 400
    And the body's "messages" is ["'2014-06-1xxx0:00:00+0000' is not a 'date-time'", "'_timestamp' is a required property", "'_timestamp' is a required property", "The following required id fields are missing: that", "the _timestamp must be a date in the format yyyy-MM-ddT00:00:00Z", "_timestamp is not a valid datetime object", "thing has an invalid value", "_foo is not a recognised internal field"]
    And the "index" values of the body's "errors" are [0, 1, 2, 0, 0, 0, 1, 2] in any order
    And data set "checked" holds 0 records

  Scenario Outline: items that are not objects are refused (<body>)
    Given I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      <body>
      """
    Then the status is 400
    And data set "foo" holds 0 records

    Examples:
      | body                     |
      | [5]                      |
      | [{"name": "ok"}, "text"] |
      | [[]]                     |
      | [null]                   |

  Scenario: a body that is not labelled JSON is refused
    Given I use the bearer token for the data set
    And I send the header "Content-Type: text/plain"
    When I POST to "/data/group/type" with body:
      """
      {"name": "t-rex"}
      """
    Then the status is 400
    And the body mentions "Expected header: Content-type: application/json"
    And data set "foo" holds 0 records

  Scenario: another data set's token is refused
    Given a data set "other"
    And I use the bearer token for data set "other"
    When I POST to "/data/group/type" with body:
      """
      {"name": "t-rex"}
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Unauthorized: Invalid bearer token for 'foo'"
    And data set "foo" holds 0 records

  Scenario: the admin token is refused by the data routes
    Given I use the admin token
    When I POST to "/data/group/type" with body:
      """
      {"name": "t-rex"}
      """
    Then the status is 401
    And the message is "Unauthorized: Invalid bearer token for 'foo'"

  Scenario: a data set without a token accepts no writes
    Given a data set "locked" with settings:
      | setting      | value |
      | bearer_token | null  |
    And I use the bearer token "locked-bearer-token"
    When I POST to "/data/locked/locked" with body:
      """
      {"name": "t-rex"}
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Unauthorized: Invalid bearer token for 'locked'"

  Scenario: the legacy POST by name still works, with a deprecation warning
    Given I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/foo"
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "message": "Deprecation Warning: accessing by data-set name is deprecated, Please use the /data-group/data-type form"}
      """
    And data set "foo" holds 4 records

  Scenario: the legacy POST to an unknown name is 404
    Given I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/nope"
    Then the status is 404

  Scenario Outline: the transform endpoint needs a valid _start_at (<body>)
    Given I use the bearer token for the data set
    When I POST to "/data/group/type/transform" with body:
      """
      <body>
      """
    Then the status is 400
    And the message is "<message>"

    Examples:
      | body                                                        | message                                 |
      | {}                                                          | You must specify a _start_at timestamp  |
      | []                                                          | You must specify a _start_at timestamp  |
      | {"_end_at": "2014-12-18T00:00:00Z"}                         | You must specify a _start_at timestamp  |

  Scenario Outline: the transform endpoint refuses unparseable dates (<body>)
    Given I use the bearer token for the data set
    When I POST to "/data/group/type/transform" with body:
      """
      <body>
      """
    Then the status is 400

    Examples:
      | body                                                                  |
      | {"_start_at": "not a date"}                                           |
      | {"_start_at": "2014-12-17T00:00:00Z", "_end_at": "not a date either"} |

  Scenario: the transform endpoint accepts a date range and says how many transforms it queued
    Given I use the bearer token for the data set
    When I POST to "/data/group/type/transform" with body:
      """
      {"_start_at": "2014-12-17T00:00:00Z", "_end_at": "2014-12-18T00:00:00Z"}
      """
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "queued": 0}
      """

  Scenario: the transform endpoint refuses a start after the end
    Given I use the bearer token for the data set
    When I POST to "/data/group/type/transform" with body:
      """
      {"_start_at": "2014-12-18T00:00:00Z", "_end_at": "2014-12-17T00:00:00Z"}
      """
    Then the status is 400
    And the message is "_start_at must be before _end_at"

  Scenario: the transform endpoint needs the data set's token
    When I POST to "/data/group/type/transform" with body:
      """
      {"_start_at": "2014-12-17T00:00:00Z"}
      """
    Then the status is 401

  Scenario Outline: wrong methods and unknown routes on the write app (<method> <path>)
    When I send <method> "<path>" to the write app
    Then the status is <status>
    And the message is "<message>"

    Examples:
      | method | path               | status | message            |
      | GET    | /data/group/type   | 405    | Method Not Allowed |
      | POST   | /data/group/type/x | 405    | Method Not Allowed |
      | GET    | /nothing/here/at/all | 404  | Not Found          |

  Scenario: a plain body over BACKDROP_MAX_BODY_BYTES is refused
    Given I use the bearer token for the data set
    When I POST a JSON body of 10485761 bytes to "/data/group/type"
    Then the status is 413
    And the message is "Request Entity Too Large"

  Scenario: a plain body at the limit is read
    Given I use the bearer token for the data set
    When I POST a JSON body of 10485760 bytes to "/data/group/type"
    Then the status is 200

  Scenario: a body labelled gzip that is not gzip is a client error
    Given I use the bearer token for the data set
    When I POST the file "dinosaur.json" as a gzip body to "/data/group/type"
    Then the status is 400
    And data set "foo" holds 0 records

  Scenario: a capped data set keeps its most recently written records
    Given a data set "capped" with settings:
      | setting             | value |
      | capped_size         | 1200  |
      | raw_queries_allowed | true  |
    And I use the bearer token for the data set
    When I POST 5 records "r1"… each with a "text" of 480 characters to "/data/capped/capped"
    Then the status is 200
    And data set "capped" holds 2 records
    And data set "capped" holds 1 record whose "_id" is "r4"
    And data set "capped" holds 1 record whose "_id" is "r5"

  Scenario: a batch may be evicted whole by a tiny cap, and still answers 200
    Given a data set "capped" with settings:
      | setting             | value |
      | capped_size         | 1     |
      | raw_queries_allowed | true  |
    And I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/capped/capped"
    Then the status is 200
    And data set "capped" holds 0 records

Feature: writing records

  Scenario: #75 the health check
    When I send GET "/_status" to the write app
    Then the status is 200
    And the body is:
      """
      {"status": "ok", "message": "app is up"}
      """
    And the header "Cache-Control" is "no-cache"
    And the header "Access-Control-Allow-Origin" is absent

  Scenario: #76 POST to the health check is not allowed
    When I POST "dinosaur.json" to "/_status"
    Then the status is 405
    And the message is "Method Not Allowed"

  Scenario: #77 a reserved name is not a data set
    When I POST "dinosaur.json" to "/_data_set"
    Then the status is 404

  Scenario: #78 posting one object
    Given a data set "my_dinosaur_data_set" with settings:
      | setting             | value     |
      | data_group          | dinosaur  |
      | data_type           | droppings |
      | raw_queries_allowed | true      |
    And I use the bearer token for the data set
    When I POST "dinosaur.json" to "/data/dinosaur/droppings"
    Then the status is 200
    And the body is:
      """
      {"status": "ok"}
      """
    And data set "my_dinosaur_data_set" holds 1 record
    And data set "my_dinosaur_data_set" holds 1 record whose "name" is "t-rex"

  Scenario: #79 posting a list of objects
    Given a data set "my_dinosaur_data_set" with settings:
      | setting             | value     |
      | data_group          | dinosaur  |
      | data_type           | droppings |
      | raw_queries_allowed | true      |
    And I use the bearer token for the data set
    When I POST "dinosaurs.json" to "/data/dinosaur/droppings"
    Then the status is 200
    And data set "my_dinosaur_data_set" holds 4 records
    And data set "my_dinosaur_data_set" holds 2 records whose "size" is "big"
    And data set "my_dinosaur_data_set" holds 1 record whose "name" is "microraptor"

  Scenario: #80 records describing time chunks
    Given a data set "time_chunk_data_set" with settings:
      | setting             | value      |
      | data_group          | time_chunk |
      | data_type           | data       |
      | raw_queries_allowed | true       |
    And I use the bearer token for the data set
    When I POST "time_chunks.json" to "/data/time_chunk/data"
    Then the status is 200
    And data set "time_chunk_data_set" holds 1 record whose "_timestamp" starts with "2013-12-09"
    And data set "time_chunk_data_set" holds 1 record whose "_timestamp" starts with "2013-12-16"
    And data set "time_chunk_data_set" holds 1 record whose "_start_at" is "2013-12-09T00:00:00+00:00"
    And data set "time_chunk_data_set" holds 1 record whose "_end_at" is "2013-12-16T00:00:00+00:00"

  Scenario: #81 records are tagged with the start of their week
    Given a data set "data_with_times" with settings:
      | setting             | value |
      | data_group          | data  |
      | data_type           | times |
      | raw_queries_allowed | true  |
    And I use the bearer token for the data set
    When I POST "timestamps.json" to "/data/data/times"
    Then the status is 200
    And data set "data_with_times" holds 3 records whose "_week_start_at" is "2013-03-11T00:00:00+00:00"
    And data set "data_with_times" holds 2 records whose "_week_start_at" is "2013-03-18T00:00:00+00:00"

  Scenario: #82 addressing a data set by group and type
    Given a data set "data_with_times" with settings:
      | setting             | value       |
      | data_group          | transaction |
      | data_type           | timings     |
      | raw_queries_allowed | true        |
    And I use the bearer token for the data set
    When I POST "timestamps.json" to "/data/transaction/timings"
    Then the status is 200
    And data set "data_with_times" holds 3 records whose "_week_start_at" is "2013-03-11T00:00:00+00:00"
    And data set "data_with_times" holds 2 records whose "_week_start_at" is "2013-03-18T00:00:00+00:00"

  Scenario: #83 invalid JSON
    Given a data set "foo" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the bearer token for the data set
    When I POST to "/data/group/type" with body:
      """
      {borked!}
      """
    Then the status is 400
    And the message starts with "Error parsing JSON: "

  Scenario: #84 an empty body
    Given a data set "foo" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the bearer token for the data set
    When I POST an empty body to "/data/group/type"
    Then the status is 400
    And the message is "Expected JSON request body but received zero bytes."

  Scenario: #85 a gzip-compressed body
    Given a data set "foo" with settings:
      | setting             | value |
      | data_group          | group |
      | data_type           | type  |
      | raw_queries_allowed | true  |
    And I use the bearer token for the data set
    When I POST "large.json" gzip-compressed to "/data/group/type"
    Then the status is 200
    And data set "foo" holds 1 record whose "key" starts with "some large value here"

  Scenario: #86 a gzip bomb is refused
    Given a data set "foo" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the bearer token for the data set
    When I POST the file "gzip-bomb.gz" as a gzip body to "/data/group/type"
    Then the status is 413
    And the body is:
      """
      {"status": "error", "message": "Request Entity Too Large"}
      """

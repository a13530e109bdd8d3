Feature: the administration API for data sets

  Scenario: creating a data set fills in every default
    Given I use the admin token
    When I send POST "/data-sets" to the write app with body:
      """
      {"data_group": "carers-allowance", "data_type": "customer-satisfaction"}
      """
    Then the status is 201
    And the body is:
      """
      {"name": "carers_allowance_customer_satisfaction",
       "data_group": "carers-allowance", "data_type": "customer-satisfaction",
       "has_bearer_token": false, "raw_queries_allowed": false, "queryable": true,
       "published": true, "realtime": false, "max_age_expected": 2678400,
       "capped_size": 0, "auto_ids": null, "schema": null,
       "upload_format": "csv", "upload_filters": []}
      """
    When I send GET "/data-sets/carers_allowance_customer_satisfaction" to the write app
    Then the status is 200
    And the body's "data_group" is "carers-allowance"
    And the body's "max_age_expected" is 2678400

  Scenario: a created data set is usable at once by both apps
    Given I use the admin token
    When I send POST "/data-sets" to the write app with body:
      """
      {"name": "fresh", "data_group": "fresh", "data_type": "things",
       "bearer_token": "fresh-token", "raw_queries_allowed": true}
      """
    Then the status is 201
    Given I use the bearer token "fresh-token"
    When I POST "dinosaur.json" to "/data/fresh/things"
    Then the status is 200
    When I GET "/data/fresh/things"
    Then the status is 200
    And the response has 1 result

  Scenario: a token is write-only, and a GET-modify-PUT keeps it working
    Given I use the admin token
    When I send POST "/data-sets" to the write app with body:
      """
      {"name": "hidden", "data_group": "hidden", "data_type": "things", "bearer_token": "hidden-token"}
      """
    Then the status is 201
    And the body's "has_bearer_token" is true
    And the body does not mention "hidden-token"
    When I send GET "/data-sets?data-group=hidden" to the write app
    Then the body does not mention "hidden-token"
    And the body does not mention "scrypt"
    When I send PUT "/data-sets/hidden" to the write app with body:
      """
      {"name": "hidden", "data_group": "hidden", "data_type": "things", "has_bearer_token": true,
       "published": false}
      """
    Then the status is 200
    And the body's "has_bearer_token" is true
    Given I use the bearer token "hidden-token"
    When I POST "dinosaur.json" to "/data/hidden/things"
    Then the status is 200

  Scenario Outline: conflicting data sets are refused (<body>)
    Given a data set "taken" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |
    And I use the admin token
    When I send POST "/data-sets" to the write app with body:
      """
      <body>
      """
    Then the status is 409
    And the message is "<message>"

    Examples:
      | body                                                                | message                                     |
      | {"name": "taken", "data_group": "other", "data_type": "other"}      | Data set 'taken' already exists             |
      | {"name": "another", "data_group": "group", "data_type": "type"}     | A data set for group/type already exists    |

  Scenario Outline: invalid configurations are refused (<body>)
    Given I use the admin token
    When I send POST "/data-sets" to the write app with body:
      """
      <body>
      """
    Then the status is 400
    And the body mentions "<field>"
    When I send GET "/data-sets" to the write app
    Then the body is:
      """
      []
      """

    Examples:
      | body                                                                         | field               |
      | {"data_group": "g", "data_type": "t", "colour": "blue"}                      | colour              |
      | {"data_group": "g", "data_type": "t", "transforms": []}                      | transforms          |
      | {"data_type": "t"}                                                           | data_group          |
      | {"data_group": "g"}                                                          | data_type           |
      | {"name": "Bad Name", "data_group": "g", "data_type": "t"}                    | name                |
      | {"name": "data-sets", "data_group": "g", "data_type": "t"}                   | name                |
      | {"data_group": "g/h", "data_type": "t"}                                      | data_group          |
      | {"data_group": "g", "data_type": "t", "raw_queries_allowed": "yes"}          | raw_queries_allowed |
      | {"data_group": "g", "data_type": "t", "capped_size": -1}                     | capped_size         |
      | {"data_group": "g", "data_type": "t", "max_age_expected": "soon"}            | max_age_expected    |
      | {"data_group": "g", "data_type": "t", "upload_format": "pdf"}                | upload_format       |
      | {"data_group": "g", "data_type": "t", "auto_ids": ["not-a-field"]}           | auto_ids            |

  Scenario: listing data sets, sorted by name
    Given a data set "zebra"
    And a data set "aardvark"
    And a data set "mole"
    And I use the admin token
    When I send GET "/data-sets" to the write app
    Then the status is 200
    And the body lists "name" values ["aardvark", "mole", "zebra"]

  Scenario Outline: listing data sets filtered by group and type (<query>)
    Given a data set "apples" with settings:
      | setting    | value  |
      | data_group | fruit  |
      | data_type  | apples |
    And a data set "pears" with settings:
      | setting    | value |
      | data_group | fruit |
      | data_type  | pears |
    And a data set "leeks" with settings:
      | setting    | value  |
      | data_group | veg    |
      | data_type  | leeks  |
    And I use the admin token
    When I send GET "/data-sets?<query>" to the write app
    Then the status is 200
    And the body lists "name" values <names>

    Examples:
      | query                           | names                         |
      | data-group=fruit&data-type=pears | ["pears"]                    |
      | data-group=fruit                | ["apples", "pears"]           |
      | data-type=leeks                 | ["leeks"]                     |
      | data-group=veg&data-type=pears  | []                            |
      | colour=blue                     | ["apples", "leeks", "pears"]  |

  Scenario: showing a data set nobody configured
    Given I use the admin token
    When I send GET "/data-sets/nope" to the write app
    Then the status is 404
    And the message is "No data set named 'nope'"

  Scenario: replacing a configuration keeps the records
    Given "dinosaurs.json" is in data set "foo" with settings:
      | setting             | value |
      | raw_queries_allowed | true  |
    And I use the admin token
    When I send PUT "/data-sets/foo" to the write app with body:
      """
      {"name": "foo", "data_group": "foo", "data_type": "foo", "bearer_token": "foo-bearer-token",
       "raw_queries_allowed": true, "realtime": true}
      """
    Then the status is 200
    And the body's "realtime" is true
    And the body's "published" is true
    When I GET "/foo"
    Then the status is 200
    And the response has 4 results
    And the header "Cache-Control" is "max-age=120, must-revalidate"

  Scenario Outline: replacing a configuration cannot change what may not change (<body>)
    Given a data set "foo"
    And a data set "bar"
    And I use the admin token
    When I send PUT "/data-sets/foo" to the write app with body:
      """
      <body>
      """
    Then the status is <status>

    Examples:
      | body                                                                   | status |
      | {"name": "renamed", "data_group": "foo", "data_type": "foo"}           | 400    |
      | {"name": "foo", "data_group": "foo", "data_type": "foo", "capped_size": 4096} | 400 |
      | {"name": "foo", "data_group": "bar", "data_type": "bar"}               | 409    |

  Scenario: replacing a configuration nobody created
    Given I use the admin token
    When I send PUT "/data-sets/nope" to the write app with body:
      """
      {"name": "nope", "data_group": "nope", "data_type": "nope"}
      """
    Then the status is 404

  Scenario: without an Authorization header the admin API answers 401
    When I send GET "/data-sets" to the write app
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Expected header of form: Authorization: Bearer <token>"

  Scenario: a wrong admin token is refused and never echoed
    Given I use the bearer token "not-the-admin-token"
    When I send GET "/data-sets" to the write app
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Unauthorized: invalid admin token"
    And the body does not mention "not-the-admin-token"

  Scenario: a data set's token is not an admin token
    Given a data set "foo"
    And I use the bearer token for the data set
    When I send DELETE "/data-sets/foo" to the write app
    Then the status is 401
    And the message is "Unauthorized: invalid admin token"
    Given I use the admin token
    When I send GET "/data-sets/foo" to the write app
    Then the status is 200

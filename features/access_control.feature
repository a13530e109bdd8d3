Feature: writers must present their data set's bearer token

  Background:
    Given a data set "some_data_set" with settings:
      | setting    | value |
      | data_group | group |
      | data_type  | type  |

  Scenario: #87 a wrong token (never echoed back)
    Given I use the bearer token "invalid-bearer-token"
    When I POST to "/data/group/type" with body:
      """
      []
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Unauthorized: Invalid bearer token for 'some_data_set'"
    And the body does not mention "invalid-bearer-token"

  Scenario: #88 no Authorization header (the token sent under a misspelt name)
    Given I send the header "Authorisation: Bearer some_data_set-bearer-token"
    When I POST to "/data/group/type" with body:
      """
      []
      """
    Then the status is 401
    And the header "WWW-Authenticate" is "bearer"
    And the message is "Expected header of form: Authorization: Bearer <token>"

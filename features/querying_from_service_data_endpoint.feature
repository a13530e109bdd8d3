Feature: addressing a data set by group and type

  Scenario: #4 query by group and type
    Given "dinosaurs.json" is in data set "rawr" with settings:
      | setting             | value     |
      | data_group          | dinosaurs |
      | data_type           | taxonomy  |
      | raw_queries_allowed | true      |
    When I GET "/data/dinosaurs/taxonomy?filter_by=eats_people:true"
    Then the status is 200
    And the response has 3 results

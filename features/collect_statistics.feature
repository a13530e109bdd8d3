Feature: collecting minimum, maximum, median, percentiles and unique counts

  # scores.json: team a's scores are 4, 8 (week of 03-11) and 7, 8 (week of 03-18), besides
  # a string, a boolean and a null, which are not numbers; team b's 1.5, then 10 and 2;
  # team c has no numeric score. Grades mix strings, booleans and numbers (1 and 1.0 are one).

  Scenario: min, max, median, a percentile and count_unique per group
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:min&collect=score:max&collect=score:median&collect=score:percentile25&collect=grade:count_unique"
    Then the status is 200
    And the data is:
      """
      [{"team": "a", "_count": 7, "score:min": 4, "score:max": 8, "score:median": 7.5,
        "score:percentile25": 6.25, "grade:count_unique": 4},
       {"team": "b", "_count": 3, "score:min": 1.5, "score:max": 10, "score:median": 2.0,
        "score:percentile25": 1.75, "grade:count_unique": 2},
       {"team": "c", "_count": 1, "score:min": null, "score:max": null, "score:median": null,
        "score:percentile25": null, "grade:count_unique": 1}]
      """

  Scenario: sorting by a maximum
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:max&sort_by=score:max:descending"
    Then the status is 200
    And the results' "team" values are ["b", "a", "c"]

  Scenario: group totals over periods are exact, not merged from the periods' answers
    Given "scores.json" is in data set "scores"
    When I GET "/scores?period=week&group_by=team&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z&collect=score:median&collect=score:max&collect=grade:count_unique"
    Then the status is 200
    And the data is:
      """
      [{"team": "a", "_count": 7, "_group_count": 2, "score:median": 7.5, "score:max": 8,
        "grade:count_unique": 4, "values": [
          {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 4,
           "score:median": 6.0, "score:max": 8, "grade:count_unique": 3},
          {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 3,
           "score:median": 7.5, "score:max": 8, "grade:count_unique": 1}]},
       {"team": "b", "_count": 3, "_group_count": 2, "score:median": 2.0, "score:max": 10,
        "grade:count_unique": 2, "values": [
          {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 1,
           "score:median": 1.5, "score:max": 1.5, "grade:count_unique": 1},
          {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 2,
           "score:median": 6.0, "score:max": 10, "grade:count_unique": 1}]},
       {"team": "c", "_count": 1, "_group_count": 1, "score:median": null, "score:max": null,
        "grade:count_unique": 1, "values": [
          {"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 1,
           "score:median": null, "score:max": null, "grade:count_unique": 1},
          {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 0,
           "score:median": null, "score:max": null, "grade:count_unique": null}]}]
      """

  Scenario: a period series with a percentile and a minimum
    Given "scores.json" is in data set "scores"
    When I GET "/scores?period=week&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z&collect=score:percentile75&collect=score:min"
    Then the status is 200
    And the data is:
      """
      [{"_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00", "_count": 6,
        "score:percentile75": 6.0, "score:min": 1.5},
       {"_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00", "_count": 5,
        "score:percentile75": 8.5, "score:min": 2}]
      """

  Scenario: flattened rows carry percentiles and unique counts
    Given "scores.json" is in data set "scores"
    When I GET "/scores?period=week&group_by=team&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z&collect=score:percentile25&collect=grade:count_unique&flatten=true"
    Then the status is 200
    And the data is:
      """
      [{"team": "a", "_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00",
        "_count": 4, "score:percentile25": 5.0, "grade:count_unique": 3},
       {"team": "b", "_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00",
        "_count": 1, "score:percentile25": 1.5, "grade:count_unique": 1},
       {"team": "c", "_start_at": "2013-03-11T00:00:00+00:00", "_end_at": "2013-03-18T00:00:00+00:00",
        "_count": 1, "score:percentile25": null, "grade:count_unique": 1},
       {"team": "a", "_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00",
        "_count": 3, "score:percentile25": 7.25, "grade:count_unique": 1},
       {"team": "b", "_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00",
        "_count": 2, "score:percentile25": 4.0, "grade:count_unique": 1},
       {"team": "c", "_start_at": "2013-03-18T00:00:00+00:00", "_end_at": "2013-03-25T00:00:00+00:00",
        "_count": 0, "score:percentile25": null, "grade:count_unique": null}]
      """

  Scenario: CSV export of percentiles and unique counts
    Given "scores.json" is in data set "scores"
    When I GET "/scores?period=week&group_by=team&start_at=2013-03-11T00:00:00Z&end_at=2013-03-25T00:00:00Z&collect=score:percentile25&collect=grade:count_unique&flatten=true&format=csv"
    Then the status is 200
    And the body is the CSV:
      """
      _count,_end_at,_start_at,grade:count_unique,score:percentile25,team
      4,2013-03-18T00:00:00+00:00,2013-03-11T00:00:00+00:00,3,5.0,a
      1,2013-03-18T00:00:00+00:00,2013-03-11T00:00:00+00:00,1,1.5,b
      1,2013-03-18T00:00:00+00:00,2013-03-11T00:00:00+00:00,1,,c
      3,2013-03-25T00:00:00+00:00,2013-03-18T00:00:00+00:00,1,7.25,a
      2,2013-03-25T00:00:00+00:00,2013-03-18T00:00:00+00:00,1,4.0,b
      0,2013-03-25T00:00:00+00:00,2013-03-18T00:00:00+00:00,,,c
      """

  Scenario: CSV export of a grouped minimum, maximum and median
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:min&collect=score:max&collect=score:median&format=csv"
    Then the status is 200
    And the body is the CSV:
      """
      _count,score:max,score:median,score:min,team
      7,8,7.5,4,a
      3,10,2.0,1.5,b
      1,,,,c
      """

  Scenario Outline: a percentile outside 1 to 99 is refused, naming the range
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:<method>"
    Then the status is 400
    And the message is "percentile must be followed by a whole number from 1 to 99 (no leading zero), eg. percentile95"

    Examples:
      | method        |
      | percentile0   |
      | percentile100 |
      | percentile5.5 |
      | percentilex   |

  Scenario: a collect with two colons lists the methods
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:median:max"
    Then the status is 400
    And the message is "collect must be a field name, optionally followed by a colon and one of sum, count, set, mean, min, max, median, percentileNN (NN from 1 to 99), count_unique"

  Scenario: sorting by a percentile outside 1 to 99 is sorting by an invalid field name
    Given "scores.json" is in data set "scores"
    When I GET "/scores?group_by=team&collect=score:median&sort_by=score:percentile0:descending"
    Then the status is 400
    And the message is "Cannot sort by an invalid field name"

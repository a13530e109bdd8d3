"""The visas transform that the end-to-end transform tests configure: a weekly digital
take-up rate over visa transactions, and a task that fails on those transactions."""

SOURCE = {"data-group": "visas", "data-type": "transactions"}
RATE = {"type": "rate", "input": SOURCE,
        "query-parameters": {"period": "week", "group_by": "channel", "collect": "count:sum"},
        "options": {"matchingAttribute": "channel", "valueAttribute": "count:sum",
                    "numeratorMatcher": "^digital$", "denominatorMatcher": ".+"},
        "output": {"data-type": "digital-takeup"}}
# Reads only rate and score data types: on transactions it fails on its source data.
LATEST_VALUE = {"type": "latest_dataset_value", "input": SOURCE, "output": {"data-type": "latest"}}

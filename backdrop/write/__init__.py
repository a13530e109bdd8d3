"""The write API: storing records with a data set's token, and administering data sets."""

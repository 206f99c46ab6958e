"""relnews's front door: the command line and the jobs that chain crawler, warehouse and
recommender."""

"""Open data: the mall's direct purchases and bidding rounds published as OCDS 1.1.5 releases,
release packages and compiled records (issue 13 item 7)."""

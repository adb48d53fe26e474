"""Tables in and out (CSV, xlsx, LAPOR! export), progress, the feedback record's schema."""

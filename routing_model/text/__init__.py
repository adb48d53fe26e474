"""Reading a complaint: masking personal data, cleaning, names, informal spelling, stemming, checks."""

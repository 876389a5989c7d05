"""hospital_sdk."""

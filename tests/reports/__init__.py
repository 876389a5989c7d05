"""Tests of hospital_sdk.reports."""

"""Viewer latency as a viewer sees it: the product page in headless Chromium."""

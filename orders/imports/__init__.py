"""Step 6: stores without an API submit orders by importing an order file.

- format.py: the file's columns, reading and checking rows, the template;
- services.py: upload, check (the preview), confirm and apply.
"""

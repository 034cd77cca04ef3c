"""HTTP interfaces on the Flask server: authentication, the field-app REST API, Open311."""

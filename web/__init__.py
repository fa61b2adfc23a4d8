"""The HTTP and websocket edge: the JSON API, operations endpoints and the browser apps."""

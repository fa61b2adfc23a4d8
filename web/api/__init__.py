"""JSON API handlers, grouped by resource; the route table in ``web.routes`` wires them."""

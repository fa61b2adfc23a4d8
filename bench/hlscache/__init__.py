"""HLS at event scale through nginx's cache (``python -m bench hlscache``).

The scaled-out shape of docker-compose.yml (``tests.support.cluster``: nginx from
deploy/nginx.conf.template, two Torget nodes with deploy/torget.env, PostgreSQL, Redis) with a
real RTMP publish, and 100, 1 000 and 5 000 simulated LL-HLS players through nginx. Measured:
the requests that reach the node holding the media (origin requests per second), how long
players wait for parts, and how far behind the origin's live edge they are.
"""

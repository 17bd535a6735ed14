"""Bad: a second region with the tag examples/demo/hello/main.py already uses."""


# [START demo_hello]
def hello():
    return "hello again"
# [END demo_hello]

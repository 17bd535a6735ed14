"""Bad: a region opened inside another one."""


# [START demo_hello]
def hello(name="world"):
    # [START demo_inner]
    return f"hello, {name}"
    # [END demo_inner]
# [END demo_hello]

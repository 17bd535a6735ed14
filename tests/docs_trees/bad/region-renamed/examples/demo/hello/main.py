"""Bad: the region was renamed; the page still shows demo_hello."""


# [START demo_greeting]
def hello(name="world"):
    return f"hello, {name}"
# [END demo_greeting]

"""Bad: the region's markers are gone while the page still shows demo_hello."""


def hello(name="world"):
    return f"hello, {name}"

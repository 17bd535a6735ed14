"""Bad: a tag with capitals and a dash."""


# [START Demo-Hello]
def hello(name="world"):
    return f"hello, {name}"
# [END Demo-Hello]

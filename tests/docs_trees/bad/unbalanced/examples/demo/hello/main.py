"""Bad: the region is opened and never closed."""


# [START demo_hello]
def hello(name="world"):
    return f"hello, {name}"


if __name__ == "__main__":
    print(hello())

"""A tiny example for the docs check's own tests: one region, shown on one page."""


# [START demo_hello]
def hello(name="world"):
    return f"hello, {name}"
# [END demo_hello]


if __name__ == "__main__":
    print(hello())

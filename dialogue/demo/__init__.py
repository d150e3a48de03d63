"""The fictional demo data set: `flask --app app seed-demo` loads it (see seed.py).

Every name, corporate number, e-mail address and person here is invented.
"""

"""Stand-ins for a Bitrix24 cloud portal and a 1C:ZUP infobase, speaking the real protocols over HTTP.

Used by the demo, the tests and the benchmarks. Nothing here imports the product.
"""

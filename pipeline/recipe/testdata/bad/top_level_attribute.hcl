# want: 2:1 Unsupported argument; An argument named "seed" is not expected here
seed = "x"

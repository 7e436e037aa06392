"""The asset manifest (references/assets.yaml): what every model, data set and selection list is, where
it comes from, its md5; ``paths`` resolves where the suite reads each one (the only source of the --data-dir
layout), ``verify`` checks presence and checksums, ``fetch`` downloads public ones safely."""

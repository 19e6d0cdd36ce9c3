/** Registers the whole standard library (import for side effects). */
import './general.js';
import './objects.js';
import './strings.js';
import './regex.js';
import './numbers.js';
import './time.js';
import './encoding.js';
import './parsing.js';
import './jwt.js';

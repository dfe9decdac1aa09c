// Entry point of the map app (一图); the modules are under ./map/.
import './map/main.js';

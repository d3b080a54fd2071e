// Directive imports: each becomes a JS value whose URLs point at emitted variants.
import hero from './img/hero.jpg?w=200;400;9999&format=webp;jpeg&as=picture';
import thumb from './img/hero.jpg?w=120&format=avif&as=url';
import logoSet from './img/logo.png?w=64;128&format=webp&as=srcset';
import heroMeta from './img/hero.jpg?as=meta';
import flower from './img/flower.jpg?w=100&format=png&as=meta&placeholder=color';

function picture(p) {
  const el = document.createElement('picture');
  for (const s of p.sources) {
    const source = document.createElement('source');
    source.type = s.type;
    source.srcset = s.srcset;
    el.append(source);
  }
  const img = document.createElement('img');
  img.src = p.img.src;
  img.srcset = p.img.srcset;
  img.width = p.img.width;
  img.height = p.img.height;
  img.id = 'hero';
  el.append(img);
  return el;
}

// A plain asset referenced from JS (Vite and webpack emit it; re-compressed in place).
const plainUrl = new URL('./img/plain.jpg', import.meta.url).href;

const images = { hero, thumb, logoSet, heroMeta, flower, plainUrl };
globalThis.__images = images;
if (typeof document !== 'undefined') {
  const app = document.getElementById('app');
  app.append(picture(hero));
  for (const [id, src] of [['thumb', thumb], ['flower', flower.src]]) {
    const img = document.createElement('img');
    img.id = id;
    img.src = src;
    app.append(img);
  }
  const logo = document.createElement('img');
  logo.id = 'logo';
  logo.srcset = logoSet;
  logo.sizes = '128px';
  app.append(logo);
}
export default images;
